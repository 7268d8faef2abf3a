import pkg from "../../package.json" with { type: "json" };

/** The pi version this build is tested with (package.json's pin, embedded at build time):
 * the installer installs exactly this one and the doctor compares the installed one with it. */
export const PINNED_PI_VERSION: string = pkg.dependencies["@mariozechner/pi-coding-agent"];
