import { createInterface } from "node:readline";
import { ClientError, EXIT } from "./client-error.ts";

/** All of stdin, for `oqto run -` and the `--*-stdin` flags. */
export function readStdin(): Promise<string> {
  return Bun.stdin.text();
}

/** The first line of stdin; a secret with a second line is almost certainly a mistake. */
export async function readSecretLine(what: string): Promise<string> {
  const line = (await readStdin()).replace(/\r?\n$/, "");
  if (/[\r\n]/.test(line)) throw new ClientError(`the ${what} on stdin must be a single line`, EXIT.usage);
  if (line === "") throw new ClientError(`no ${what} on stdin`, EXIT.usage);
  return line;
}

/** Asks for one line on the terminal, echoed (stderr, so that stdout stays the command's output). */
export function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise((resolve, reject) => {
    rl.on("SIGINT", () => {
      rl.close();
      reject(new ClientError("interrupted", EXIT.interrupted));
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer.trim());
    });
  });
}

/** Asks for a secret on the terminal without echoing it. */
export function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let typed = "";
  return new Promise((resolve, reject) => {
    const done = (error?: ClientError) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return done();
        if (char === "\u0003") return done(new ClientError("interrupted", EXIT.interrupted));
        if (char === "\u0004" && typed === "") return done(new ClientError("no password given", EXIT.usage));
        if (char === "\u007f" || char === "\b") typed = Array.from(typed).slice(0, -1).join("");
        else if (char >= " ") typed += char;
      }
    };
    stdin.on("data", onData);
  });
}
