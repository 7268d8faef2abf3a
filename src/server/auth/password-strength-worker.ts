// Runs zxcvbn off the server's heap: its dictionaries take ~20 MB of JS heap once loaded, which a
// worker hands back when it ends, where a module imported into serve would keep them for good.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { translations } from "@zxcvbn-ts/language-en";
import {
  PASSWORD_WORKER_READY,
  PasswordCheckRequest,
  type PasswordCheckVerdict,
} from "./password-check-messages.ts";

declare const self: Worker;

const checker = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, translations });

self.onmessage = (event: MessageEvent) => {
  const { password, context } = PasswordCheckRequest.parse(event.data);
  const result = checker.check(password, context);
  const verdict: PasswordCheckVerdict = {
    score: result.score,
    warning: result.feedback.warning ?? "",
    suggestions: result.feedback.suggestions,
  };
  self.postMessage(verdict);
};
self.postMessage(PASSWORD_WORKER_READY);
