//! Untrusted text: plan_file must never panic (see strata::fuzzing::plan_file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strata::fuzzing::plan_file(data);
});
