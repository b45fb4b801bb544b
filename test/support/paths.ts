import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file is test/support/paths.ts). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The bundled CLI that users run. */
export const CLI = path.join(ROOT, "module", "bin", "hvbackup.cjs");
/** src/vhdx bundled as CommonJS, for child processes (built by test/global_setup.ts). */
export const LIB_BUNDLE = path.join(ROOT, "node_modules", ".cache", "hvbackup-test", "vhdx_lib.cjs");
/** libvhdi oracle script; runs under Debian's python only. */
export const PYVHDI_DUMP = path.join(ROOT, "test", "oracles", "pyvhdi_dump.py");
export const SYSTEM_PYTHON = "/usr/bin/python3";
