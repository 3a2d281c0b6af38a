//! Two independent pieces of work at the same time, on the machine's second core.

/// `first` here and `second` on a thread of its own (named `name`), at the same time. One
/// after the other on a single core, or when the system refuses a thread: `second` can be
/// called here then, so nothing it was to do is lost.
pub(crate) fn two_at_once<A, B: Send>(
    name: &str,
    first: impl FnOnce() -> A,
    second: &(impl Fn() -> B + Sync),
) -> (A, B) {
    if std::thread::available_parallelism().map_or(1, usize::from) < 2 {
        return (first(), second());
    }
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn_scoped(scope, second);
        let a = first();
        let b = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            Err(_) => second(),
        };
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    /// Each result comes back on its side, and the second ran on another thread where the
    /// machine has two cores.
    #[test]
    fn each_result_on_its_side() {
        let here = std::thread::current().id();
        let (a, b) =
            super::two_at_once("strata-test", || (1, std::thread::current().id()), &|| {
                (2, std::thread::current().id())
            });
        assert_eq!((a.0, b.0), (1, 2));
        assert_eq!(a.1, here);
        let two = std::thread::available_parallelism().map_or(1, usize::from) >= 2;
        assert_eq!(b.1 != here, two);
    }
}
