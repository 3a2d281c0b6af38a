//! Schema files are untrusted text: splitting and checking them must never panic, and
//! every problem must point inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    strata::fuzzing::schema_source(data);
});
