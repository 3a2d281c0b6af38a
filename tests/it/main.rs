//! Integration tests against a real PostgreSQL: one embedded cluster per test run (the same
//! mechanism strata uses), a fresh database per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod attacks;

mod cases;
mod catalog;
mod chart;
mod cli;
mod exit_codes;
mod faults;
mod generated;
mod inventory;
mod job;
mod json_output;
mod lifecycle;
mod loading;
mod project;
mod rebuild;
mod renames;
mod robustness;
mod safety;
mod tampering;
mod tls;
mod tools;
mod upgrade;
mod warm;
mod warm_edit;
