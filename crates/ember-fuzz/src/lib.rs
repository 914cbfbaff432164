//! The fuzzing harness of ember's tests (a dev-dependency only). A target is a function over
//! bytes that must not panic (and, for the server's, must not answer 5xx): it runs on inputs
//! made from seeds — valid inputs of its format — by random mutations (bytes flipped, replaced
//! with boundary values, inserted, deleted, duplicated, truncated, spliced with another seed) or
//! from random bytes, generated and shrunk by proptest, so a failure is reported as a small input.
//!
//! Each target runs for `EMBER_FUZZ_SECONDS` (default 2; `scripts/test` sets more) and prints
//! how many inputs it ran past the test harness's capture. `EMBER_FUZZ_SEED` replays a run.

use std::io::Write;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// Inputs per proptest run; runs repeat until the time budget is spent.
const CASES_PER_RUN: u32 = 256;

/// One edit of an input.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: prop::sample::Index, bit: u8 },
    Set { at: prop::sample::Index, byte: u8 },
    Insert { at: prop::sample::Index, bytes: Vec<u8> },
    Delete { at: prop::sample::Index, len: usize },
    Duplicate { at: prop::sample::Index, len: usize },
    Truncate { at: prop::sample::Index },
    Splice { at: prop::sample::Index, seed: prop::sample::Index, from: prop::sample::Index },
}

/// Bytes that sit on boundaries of common encodings (lengths, varints, signs, text).
const INTERESTING: [u8; 12] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, b'"', b',', b'\n', b'{', b'[', b'\\'];

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        (index(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (index(), prop_oneof![prop::sample::select(INTERESTING.to_vec()), any::<u8>()]).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (index(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (index(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (index(), 1usize..256).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        index().prop_map(|at| Mutation::Truncate { at }),
        (index(), index(), index()).prop_map(|(at, seed, from)| Mutation::Splice { at, seed, from }),
    ]
}

fn apply(mut input: Vec<u8>, mutation: &Mutation, seeds: &[Vec<u8>]) -> Vec<u8> {
    let position = |at: &prop::sample::Index, len: usize| if len == 0 { 0 } else { at.index(len + 1) };
    match mutation {
        Mutation::Flip { at, bit } if !input.is_empty() => {
            let i = at.index(input.len());
            input[i] ^= 1 << bit;
        }
        Mutation::Set { at, byte } if !input.is_empty() => {
            let i = at.index(input.len());
            input[i] = *byte;
        }
        Mutation::Insert { at, bytes } => {
            let i = position(at, input.len());
            input.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let i = position(at, input.len()).min(input.len());
            input.drain(i..(i + len).min(input.len()));
        }
        Mutation::Duplicate { at, len } => {
            let i = position(at, input.len()).min(input.len());
            let copy: Vec<u8> = input[i..(i + len).min(input.len())].to_vec();
            input.splice(i..i, copy);
        }
        Mutation::Truncate { at } => {
            let i = position(at, input.len()).min(input.len());
            input.truncate(i);
        }
        Mutation::Splice { at, seed, from } if !seeds.is_empty() => {
            let other = &seeds[seed.index(seeds.len())];
            let start = position(from, other.len()).min(other.len());
            let i = position(at, input.len()).min(input.len());
            input.truncate(i);
            input.extend_from_slice(&other[start..]);
        }
        _ => {}
    }
    input
}

/// Inputs made from `seeds`: a seed with up to 8 mutations, or (one time in eight) random bytes.
pub fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    assert!(!seeds.is_empty(), "a target needs at least one seed");
    let from_seed = (prop::sample::select(seeds.clone()), prop::collection::vec(mutation(), 0..8))
        .prop_map(move |(seed, mutations)| mutations.iter().fold(seed, |input, mutation| apply(input, mutation, &seeds)));
    prop_oneof![7 => from_seed, 1 => prop::collection::vec(any::<u8>(), 0..512)]
}

/// What a failed target prints: the input on one line, then why it failed, last, so the reason
/// survives any cut of a long output (CI shows a log's start and end).
fn failure_report<V: std::fmt::Debug>(target: &str, seed: u64, failure: TestError<V>) -> String {
    let header = format!("fuzz target {target} failed (EMBER_FUZZ_SEED={seed} replays it)");
    match failure {
        TestError::Fail(reason, input) => format!("{header} on the input\n{input:?}\nbecause: {reason}"),
        TestError::Abort(reason) => format!("{header}: aborted: {reason}"),
    }
}

/// The time budget of each target.
fn budget() -> Duration {
    let seconds = std::env::var("EMBER_FUZZ_SECONDS").ok().and_then(|text| text.parse::<f64>().ok()).unwrap_or(2.0);
    Duration::from_secs_f64(seconds.max(0.0))
}

/// Runs `test` on inputs of `strategy` for the time budget; panics with the (shrunk) input of
/// the first failure. `test` fails by panicking or by returning `Err`.
pub fn fuzz<S: Strategy>(target: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), String>)
where
    S::Value: std::fmt::Debug,
{
    let seed: u64 = std::env::var("EMBER_FUZZ_SEED").ok().and_then(|text| text.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_nanos() as u64).unwrap_or(0)
    });
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases: CASES_PER_RUN, failure_persistence: None, max_shrink_iters: 4096, ..Config::default() };
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let (started, budget) = (Instant::now(), budget());
    let mut runs = 0u64;
    loop {
        // A runner counts its cases once: each run gets a fresh one, its generator drawn from
        // the last, so the whole sequence follows from the seed.
        let mut runner = TestRunner::new_with_rng(config.clone(), rng);
        let outcome = runner.run(&strategy, |input| test(input).map_err(TestCaseError::fail));
        rng = runner.new_rng();
        runs += 1;
        if let Err(failure) = outcome {
            panic!("{}", failure_report(target, seed, failure));
        }
        if started.elapsed() >= budget {
            break;
        }
    }
    let inputs = runs * u64::from(CASES_PER_RUN);
    // Past the harness's capture, so a passing run reports its work too.
    let _ = writeln!(std::io::stderr(), "fuzz {target}: {inputs} inputs in {:.1} s, no failure", started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_in_bounds_and_failures_are_reported() {
        // Every mutation of short and empty inputs is applied without panicking.
        fuzz("harness", mutated(vec![Vec::new(), b"ab".to_vec(), b"{\"a\": [1, 2]}".to_vec()]), |_| Ok(()));
        let failed = std::panic::catch_unwind(|| {
            fuzz("failing", mutated(vec![b"seed".to_vec()]), |input| if input.len() > 3 { Err("long".into()) } else { Ok(()) })
        });
        let message = *failed.expect_err("a failure panics").downcast::<String>().unwrap();
        assert!(message.contains("fuzz target failing failed") && message.contains("EMBER_FUZZ_SEED="), "{message}");
        // The input is one line and the reason comes last.
        assert!(message.ends_with("because: long"), "{message}");
        assert_eq!(message.lines().count(), 3, "{message}");
    }
}
