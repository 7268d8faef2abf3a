/** A config value of the form `env:VAR` names an environment variable that holds the secret. */
export const ENV_REF_PREFIX = "env:";

/**
 * The secret a config value stands for: the variable's value for `env:VAR`, else the value itself.
 * Throws (naming the config key, never a value) when the variable is unset or empty.
 */
export function resolveEnvRef(
  value: string,
  key: string,
  env: Record<string, string | undefined> = process.env,
): string {
  if (!value.startsWith(ENV_REF_PREFIX)) return value;
  const name = value.slice(ENV_REF_PREFIX.length);
  const resolved = env[name];
  if (resolved === undefined || resolved === "") {
    throw new Error(
      `${key} is '${value}', but the environment variable ${name} is ${resolved === undefined ? "not set" : "empty"}`,
    );
  }
  return resolved;
}
