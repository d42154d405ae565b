//! The wasm32 global allocator: power-of-two size classes with one free list each, carved
//! from `memory.grow`. It replaces Rust's default `dlmalloc`, which was about 7 KB of the
//! module; this client allocates small, short-lived strings and vectors, where a size-class
//! free list reuses every block and the module's memory stops growing after warm-up.
//!
//! Blocks carry no header: `dealloc` and `realloc` get the layout, which gives the class.
//! Blocks are never split or merged, so memory in use is bounded by the peak number of live
//! blocks of each class, at most twice the bytes requested. wasm32 without threads only.

use core::alloc::Layout;
use core::ptr;

const PAGE: usize = 65536;
/// Smallest block: 16 bytes (room for the free-list link, and the usual 8/16-byte alignment).
const MIN_SHIFT: u32 = 4;
/// Alignment guaranteed to every block of at least this size; larger requests are refused.
const MAX_ALIGN: usize = 4096;

/// Where fresh memory comes from: `memory.grow` on wasm32, an arena in the native tests.
pub(crate) trait Grow {
    /// Adds `pages` pages and returns the address of the first, or `None` when out of memory.
    fn grow(&mut self, pages: usize) -> Option<usize>;
}

/// The allocator state: a free list head per class and the unused tail of the last region.
pub(crate) struct Heap<G> {
    free: [usize; usize::BITS as usize],
    bump: usize,
    end: usize,
    source: G,
}

/// The class (log2 of the block size) for a layout, or `None` if no block can hold it.
fn class_of(layout: Layout) -> Option<u32> {
    if layout.align() > MAX_ALIGN {
        return None;
    }
    let size = layout.size().max(layout.align()).max(1 << MIN_SHIFT);
    size.checked_next_power_of_two().map(usize::trailing_zeros)
}

impl<G: Grow> Heap<G> {
    pub(crate) const fn new(source: G) -> Heap<G> {
        Heap { free: [0; usize::BITS as usize], bump: 0, end: 0, source }
    }

    /// # Safety
    /// As `GlobalAlloc::alloc`.
    pub(crate) unsafe fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else { return ptr::null_mut() };
        let Some(head) = self.free.get_mut(class as usize) else { return ptr::null_mut() };
        if *head != 0 {
            let block = *head;
            // SAFETY: a free block's first word holds the next free block of its class.
            *head = unsafe { (block as *const usize).read() };
            return block as *mut u8;
        }
        let size = 1usize << class;
        let align = size.min(MAX_ALIGN);
        let start = match self.bump.checked_add(align - 1) {
            Some(v) => v & !(align - 1),
            None => return ptr::null_mut(),
        };
        if start.checked_add(size).is_none_or(|e| e > self.end) {
            // A new region: enough pages for the block and its alignment padding.
            let Some(pages) = size.checked_add(align).map(|n| n.div_ceil(PAGE)) else { return ptr::null_mut() };
            let Some(region) = self.source.grow(pages) else { return ptr::null_mut() };
            if region != self.end {
                // Not contiguous with the old region (or the first one): start afresh.
                self.bump = region;
            }
            // Saturates only at a full 4 GiB memory, where the next grow fails anyway.
            self.end = region.saturating_add(pages * PAGE);
            return unsafe { self.alloc(layout) };
        }
        self.bump = start + size;
        start as *mut u8
    }

    /// # Safety
    /// As `GlobalAlloc::dealloc`.
    pub(crate) unsafe fn dealloc(&mut self, block: *mut u8, layout: Layout) {
        let Some(head) = class_of(layout).and_then(|c| self.free.get_mut(c as usize)) else { return };
        // SAFETY: the block is at least 16 bytes and no longer in use.
        unsafe { (block as *mut usize).write(*head) };
        *head = block as usize;
    }

    /// # Safety
    /// As `GlobalAlloc::realloc`.
    pub(crate) unsafe fn realloc(&mut self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else { return ptr::null_mut() };
        if class_of(new_layout) == class_of(layout) {
            return block; // same block size: nothing to move
        }
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                ptr::copy_nonoverlapping(block, new, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        new
    }
}

/// `memory.grow` on memory 0.
#[cfg(target_arch = "wasm32")]
pub(crate) struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Grow for WasmMemory {
    fn grow(&mut self, pages: usize) -> Option<usize> {
        let old = core::arch::wasm32::memory_grow(0, pages);
        (old != usize::MAX).then(|| old * PAGE)
    }
}

/// The global allocator of the wasm module.
#[cfg(target_arch = "wasm32")]
pub(crate) struct SizeClassAlloc(core::cell::UnsafeCell<Heap<WasmMemory>>);

// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread.
#[cfg(target_arch = "wasm32")]
unsafe impl Sync for SizeClassAlloc {}

#[cfg(target_arch = "wasm32")]
unsafe impl core::alloc::GlobalAlloc for SizeClassAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).alloc(layout) }
    }
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { (*self.0.get()).dealloc(block, layout) }
    }
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(block, layout, new_size) }
    }
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOC: SizeClassAlloc = SizeClassAlloc(core::cell::UnsafeCell::new(Heap::new(WasmMemory)));

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake linear memory: a fixed arena handed out a page at a time.
    struct Arena {
        base: usize,
        pages: usize,
        max_pages: usize,
    }

    impl Grow for Arena {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.pages + pages > self.max_pages {
                return None;
            }
            let at = self.base + self.pages * PAGE;
            self.pages += pages;
            Some(at)
        }
    }

    fn heap(max_pages: usize, backing: &mut Vec<u8>) -> Heap<Arena> {
        *backing = vec![0u8; (max_pages + 1) * PAGE];
        // Page-align the arena like linear memory.
        let base = (backing.as_mut_ptr() as usize).div_ceil(PAGE) * PAGE;
        Heap::new(Arena { base, pages: 0, max_pages })
    }

    #[test]
    fn classes_round_up_to_powers_of_two_with_a_16_byte_floor() {
        let c = |size, align| class_of(Layout::from_size_align(size, align).unwrap());
        assert_eq!(c(0, 1), Some(4));
        assert_eq!(c(1, 1), Some(4));
        assert_eq!(c(17, 1), Some(5));
        assert_eq!(c(64, 64), Some(6));
        assert_eq!(c(3, 256), Some(8));
        assert_eq!(c(1 << 20, 8), Some(20));
        assert_eq!(c(8, 8192), None);
    }

    #[test]
    fn freed_blocks_are_reused_and_memory_stops_growing() {
        let mut backing = Vec::new();
        let mut h = heap(64, &mut backing);
        let l = Layout::from_size_align(100, 8).unwrap();
        let a = unsafe { h.alloc(l) };
        unsafe { h.dealloc(a, l) };
        let b = unsafe { h.alloc(l) };
        assert_eq!(a, b);
        let pages = h.source.pages;
        for _ in 0..10_000 {
            let x = unsafe { h.alloc(l) };
            let y = unsafe { h.alloc(Layout::from_size_align(5000, 8).unwrap()) };
            unsafe {
                h.dealloc(y, Layout::from_size_align(5000, 8).unwrap());
                h.dealloc(x, l);
            }
        }
        assert!(h.source.pages <= pages + 1, "grew from {pages} to {} pages", h.source.pages);
        unsafe { h.dealloc(b, l) };
    }

    #[test]
    fn out_of_memory_is_a_null_pointer_not_a_panic() {
        let mut backing = Vec::new();
        let mut h = heap(4, &mut backing);
        assert!(unsafe { h.alloc(Layout::from_size_align(1 << 20, 8).unwrap()) }.is_null());
        assert!(!unsafe { h.alloc(Layout::from_size_align(1000, 8).unwrap()) }.is_null());
    }

    #[test]
    fn random_alloc_realloc_free_keeps_blocks_aligned_disjoint_and_intact() {
        let mut backing = Vec::new();
        let mut h = heap(512, &mut backing);
        // (address, layout, fill byte)
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let check = |p: *mut u8, l: Layout, fill: u8| {
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == fill), "block {p:?} was overwritten");
        };
        for step in 0..20_000u32 {
            let r = next();
            let size = match r % 10 {
                0 => (r >> 8) as usize % 70_000,
                _ => (r >> 8) as usize % 300,
            };
            let align = 1usize << ((r >> 40) % 6);
            let fill = (step % 251) as u8 + 1;
            match (r >> 48) % 3 {
                0 | 1 if live.len() < 300 => {
                    let l = Layout::from_size_align(size, align).unwrap();
                    let p = unsafe { h.alloc(l) };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0);
                    unsafe { std::ptr::write_bytes(p, fill, size) };
                    live.push((p, l, fill));
                }
                2 if !live.is_empty() && r % 2 == 0 => {
                    let i = (r >> 20) as usize % live.len();
                    let (p, l, f) = live.swap_remove(i);
                    check(p, l, f);
                    let q = unsafe { h.realloc(p, l, size) };
                    assert!(!q.is_null());
                    let kept = l.size().min(size);
                    let bytes = unsafe { std::slice::from_raw_parts(q, kept) };
                    assert!(bytes.iter().all(|&b| b == f), "realloc lost data");
                    let nl = Layout::from_size_align(size, l.align()).unwrap();
                    unsafe { std::ptr::write_bytes(q, fill, size) };
                    live.push((q, nl, fill));
                }
                _ if !live.is_empty() => {
                    let i = (r >> 20) as usize % live.len();
                    let (p, l, f) = live.swap_remove(i);
                    check(p, l, f);
                    unsafe { h.dealloc(p, l) };
                }
                _ => {}
            }
        }
        // Every live block still holds its own bytes: no two overlapped.
        for &(p, l, f) in &live {
            check(p, l, f);
        }
    }
}
