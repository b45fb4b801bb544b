/**
 * The one error type users see ({@link HvbError}, with a stable code and a PowerShell-style
 * category) and the conversion of anything thrown into it.
 *
 * @module
 */
export { HvbError, UsageError, isHvbError, toHvbError, type HvbCategory, type HvbErrorDetails } from "./hvb_error";
