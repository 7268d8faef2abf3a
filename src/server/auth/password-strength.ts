import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { translations } from "@zxcvbn-ts/language-en";

/**
 * zxcvbn's 0–4 guessability score a new password needs: 2 ("somewhat guessable", about 10^8
 * guesses) turns away the common passwords, keyboard walks and repeats an online guesser tries
 * first, without asking people for more than a long phrase.
 */
const MIN_SCORE = 2;

// Built on first use: loading the dictionaries takes a moment that serve's start need not pay.
let checker: ZxcvbnFactory | undefined;

/**
 * Why `password` is too weak to set, or undefined when it will do. `context` holds what an
 * attacker would try first (the username, the e-mail address, the display name).
 */
export function passwordWeakness(
  password: string,
  context: ReadonlyArray<string | undefined>,
): string | undefined {
  if (password.trim() === "") return "the password is only whitespace";
  checker ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, translations });
  const result = checker.check(
    password,
    context.filter((value): value is string => Boolean(value)),
  );
  if (result.score >= MIN_SCORE) return undefined;
  const why = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(" ");
  return `the password is too easy to guess${why ? `: ${why}` : ""}`;
}
