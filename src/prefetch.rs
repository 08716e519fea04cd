//! A hint to start loading memory the hot path will read soon: feature counters and weights are
//! read at random places in tables larger than the core's cache, so issuing their loads a little
//! ahead hides most of the wait.

/// Asks the CPU to bring the cache line holding `x` closer. Does nothing on other targets.
#[inline(always)]
pub fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint: it reads nothing the program sees and cannot fault,
        // and `x` is a live reference anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// `prefetch` of `items[i]`, without a bounds check: an index past the end only wastes the hint
/// (a prefetch never faults), so the hot loops need not compare every index with a length.
#[inline(always)]
pub fn prefetch_at<T>(items: &[T], i: usize) {
    let p = items.as_ptr().wrapping_add(i);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: as in `prefetch`; the address may lie outside `items` (then it is a hint about
        // memory nobody reads), and prefetching an address never faults.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
