//! Untrusted parent links: plan_chain must terminate and never panic (see
//! strata::fuzzing::plan_chain).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strata::fuzzing::plan_chain(data);
});
