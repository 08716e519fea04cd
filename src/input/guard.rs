//! Keeps a memory-mapped input file that another process truncates from killing the job.
//!
//! Touching a mapped page past the new end of a file raises SIGBUS. The handler installed here
//! looks the faulting address up in a table of the mappings docclass registered; if it is one of
//! them, it maps a zero page over the lost page, counts the fault and returns, so the read goes on
//! (seeing zeros) and the job later learns from `Guard::faulted` that the file changed. Faults at
//! any other address get the previous disposition back, so real bugs still crash as they would.
//! Only atomics and syscalls are used inside the handler.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many mappings can be guarded at once; a file that finds no free slot is read instead.
const SLOTS: usize = 256;

struct Slot {
    start: AtomicUsize,
    len: AtomicUsize,
    faults: AtomicUsize,
}

static TABLE: [Slot; SLOTS] = [const {
    Slot {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        faults: AtomicUsize::new(0),
    }
}; SLOTS];

/// A registered mapping; unregisters itself when dropped (before the map is unmapped).
pub struct Guard {
    slot: usize,
}

impl Guard {
    /// Whether any page of the mapping was lost (the file shrank under it).
    pub fn faulted(&self) -> bool {
        TABLE[self.slot].faults.load(Ordering::Acquire) > 0
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let slot = &TABLE[self.slot];
        slot.len.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
    }
}

/// Registers the mapping `start..start + len`, installing the handler on first use. `None` when
/// the handler cannot be installed or every slot is taken: the caller must not map then.
pub fn register(start: usize, len: usize) -> Option<Guard> {
    if start == 0 || len == 0 || !imp::install() {
        return None;
    }
    for (i, slot) in TABLE.iter().enumerate() {
        if slot
            .start
            .compare_exchange(0, start, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            slot.faults.store(0, Ordering::Release);
            slot.len.store(len, Ordering::Release);
            return Some(Guard { slot: i });
        }
    }
    None
}

/// The slot whose mapping holds `addr`.
#[cfg_attr(not(unix), allow(dead_code))]
fn slot_of(addr: usize) -> Option<&'static Slot> {
    TABLE.iter().find(|slot| {
        let start = slot.start.load(Ordering::Acquire);
        let len = slot.len.load(Ordering::Acquire);
        start != 0 && addr >= start && addr - start < len
    })
}

#[cfg(unix)]
mod imp {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
    static PAGE: AtomicUsize = AtomicUsize::new(4096);

    pub fn install() -> bool {
        static INSTALLED: OnceLock<bool> = OnceLock::new();
        *INSTALLED.get_or_init(|| {
            // SAFETY: plain libc calls with zero-initialised, then filled, C structs.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page > 0 {
                    PAGE.store(page as usize, Ordering::Relaxed);
                }
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &action, &mut previous) != 0 {
                    return false;
                }
                let _ = PREVIOUS.set(previous);
            }
            true
        })
    }

    extern "C" fn on_sigbus(
        _signal: libc::c_int,
        info: *mut libc::siginfo_t,
        _context: *mut libc::c_void,
    ) {
        // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        if let Some(slot) = super::slot_of(addr) {
            let page = PAGE.load(Ordering::Relaxed);
            // SAFETY: replaces one page inside a mapping docclass owns and only reads; the map
            // is still registered, so it has not been unmapped.
            let zero = unsafe {
                libc::mmap(
                    (addr & !(page - 1)) as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if zero != libc::MAP_FAILED {
                slot.faults.fetch_add(1, Ordering::AcqRel);
                return;
            }
        }
        // Not a guarded page: restore what was there before; the fault repeats and takes it.
        // SAFETY: sigaction is async-signal-safe; the structs are valid for the call.
        unsafe {
            match PREVIOUS.get() {
                Some(previous) => libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut()),
                None => {
                    let mut default: libc::sigaction = std::mem::zeroed();
                    default.sa_sigaction = libc::SIG_DFL;
                    libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut())
                }
            };
        }
    }
}

#[cfg(not(unix))]
mod imp {
    pub fn install() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_found_by_address_and_freed_on_drop() {
        let a = register(0x1000_0000, 0x2000).expect("a free slot");
        assert!(slot_of(0x1000_0000).is_some());
        assert!(slot_of(0x1000_1fff).is_some());
        assert!(slot_of(0x1000_2000).is_none());
        assert!(!a.faulted());
        drop(a);
        assert!(slot_of(0x1000_0000).is_none());
    }
}
