import { workerUrl } from "../../shared/worker-url.ts";
import { PASSWORD_WORKER_READY, PasswordCheckVerdict } from "./password-check-messages.ts";

/**
 * zxcvbn's 0–4 guessability score a new password needs: 2 ("somewhat guessable", about 10^8
 * guesses) turns away the common passwords, keyboard walks and repeats an online guesser tries
 * first, without asking people for more than a long phrase.
 */
const MIN_SCORE = 2;
const CHECK_TIMEOUT_MS = 15_000;
let lastCheck: Promise<unknown> = Promise.resolve();

/**
 * Why `password` is too weak to set, or undefined when it will do. `context` holds what an
 * attacker would try first (the username, the e-mail address, the display name). Each check runs
 * in a worker of its own that ends with it (password-strength-worker.ts says why): passwords are
 * set rarely, and the ~0.2 s that costs sits beside the password hash's own.
 */
export async function passwordWeakness(
  password: string,
  context: ReadonlyArray<string | undefined>,
): Promise<string | undefined> {
  if (password.trim() === "") return "the password is only whitespace";
  const words = context.filter((value): value is string => Boolean(value));
  // One worker at a time: each holds the dictionaries (~40 MB while it runs), so a burst of sign-ups
  // waits its turn instead of multiplying that.
  const turn = lastCheck.then(() => checkInWorker(password, words));
  lastCheck = turn.catch(() => undefined);
  const verdict = await turn;
  if (verdict.score >= MIN_SCORE) return undefined;
  const why = [verdict.warning, ...verdict.suggestions].filter(Boolean).join(" ");
  return `the password is too easy to guess${why ? `: ${why}` : ""}`;
}

function checkInWorker(password: string, context: string[]): Promise<PasswordCheckVerdict> {
  const worker = new Worker(workerUrl("server/auth/password-strength-worker.ts"));
  let timer: Timer | undefined;
  return new Promise<PasswordCheckVerdict>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error("the password check did not answer")), CHECK_TIMEOUT_MS);
    worker.onmessage = (event: MessageEvent) => {
      // The request waits for the worker's "ready": one posted while its modules load can be lost.
      if (event.data === PASSWORD_WORKER_READY) return worker.postMessage({ password, context });
      const verdict = PasswordCheckVerdict.safeParse(event.data);
      if (verdict.success) resolve(verdict.data);
      else reject(new Error(`the password check answered oddly: ${verdict.error.message}`));
    };
    worker.onerror = (event: ErrorEvent) => reject(new Error(`the password check failed: ${event.message}`));
  }).finally(() => {
    clearTimeout(timer);
    worker.terminate();
  });
}
