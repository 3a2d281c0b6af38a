//! Untrusted text: sum_file must never panic (see strata::fuzzing::sum_file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strata::fuzzing::sum_file(data);
});
