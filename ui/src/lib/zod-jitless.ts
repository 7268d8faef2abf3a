import { z } from "zod";

// The page's policy forbids eval: without this, zod's first parse probes `new Function` (refused,
// and reported as a violation) before it falls back to the interpreter it then always uses.
z.config({ jitless: true });
