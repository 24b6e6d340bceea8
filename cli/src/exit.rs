//! Exit codes (`docs/cli.md`): 0 ok, 1 verification failed or denied, 2 bad usage or
//! input, 3 deferred, 4 operational failure; and the mapping of an error to its code.

use weft_node::ErrorClass;

/// Success (or a permit / warn).
pub const OK: u8 = 0;
/// Verification failed, or the gate denied.
pub const FAILED: u8 = 1;
/// Bad usage or input; nothing was changed.
pub const USAGE: u8 = 2;
/// The gate deferred the action to a human.
pub const DEFERRED: u8 = 3;
/// The environment failed (I/O, a locked store).
pub const OPERATIONAL: u8 = 4;

/// Maps an error to its exit code.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(class) = weft_node::classify(cause) {
            return match class {
                ErrorClass::Verification => FAILED,
                ErrorClass::Input => USAGE,
                ErrorClass::Operational => OPERATIONAL,
            };
        }
    }
    OPERATIONAL
}
