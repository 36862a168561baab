//! Owned `AVPacket`.

use std::ptr::NonNull;

use ffmpeg_sys_next as ff;

use super::error::FfmpegError;

/// FFmpeg's "no timestamp" marker (`AV_NOPTS_VALUE`, a macro bindgen cannot translate).
pub(crate) const NO_TIMESTAMP: i64 = i64::MIN;

pub(crate) fn timestamp(value: i64) -> Option<i64> {
    (value != NO_TIMESTAMP).then_some(value)
}

pub(crate) struct Packet {
    ptr: NonNull<ff::AVPacket>,
}

// SAFETY: an AVPacket is plain data plus reference-counted buffers whose counts are atomic;
// nothing ties it to the thread that allocated it.
unsafe impl Send for Packet {}

impl Packet {
    pub(crate) fn new() -> Result<Self, FfmpegError> {
        // SAFETY: av_packet_alloc has no preconditions; NULL means out of memory.
        let ptr = unsafe { ff::av_packet_alloc() };
        NonNull::new(ptr)
            .map(|ptr| Self { ptr })
            .ok_or(FfmpegError::from_code(ff::AVERROR(ff::ENOMEM)))
    }

    pub(super) fn as_ptr(&self) -> *const ff::AVPacket {
        self.ptr.as_ptr()
    }

    pub(super) fn as_mut_ptr(&mut self) -> *mut ff::AVPacket {
        self.ptr.as_ptr()
    }

    fn get(&self) -> &ff::AVPacket {
        // SAFETY: the pointer is valid for the lifetime of self, and AVPacket has no enum
        // fields that could hold values unknown to the bindings.
        unsafe { self.ptr.as_ref() }
    }

    /// Drops the payload, keeping the allocation for the next read.
    pub(crate) fn unref(&mut self) {
        // SAFETY: valid packet; unref on an empty packet is a no-op.
        unsafe { ff::av_packet_unref(self.ptr.as_ptr()) }
    }

    pub(crate) fn stream_index(&self) -> usize {
        usize::try_from(self.get().stream_index).unwrap_or(usize::MAX)
    }

    pub(crate) fn pts(&self) -> Option<i64> {
        timestamp(self.get().pts)
    }

    /// The payload (empty for an empty packet).
    pub(crate) fn data(&self) -> &[u8] {
        let packet = self.get();
        match usize::try_from(packet.size) {
            // SAFETY: data points to size valid bytes owned by the packet, which cannot be
            // changed or freed while &self is borrowed.
            Ok(len) if len > 0 && !packet.data.is_null() => unsafe {
                std::slice::from_raw_parts(packet.data, len)
            },
            _ => &[],
        }
    }

    pub(crate) fn size(&self) -> usize {
        usize::try_from(self.get().size).unwrap_or(0)
    }

    pub(crate) fn is_keyframe(&self) -> bool {
        self.get().flags & ff::AV_PKT_FLAG_KEY != 0
    }

    pub(crate) fn is_corrupt(&self) -> bool {
        self.get().flags & ff::AV_PKT_FLAG_CORRUPT != 0
    }
}

impl Drop for Packet {
    fn drop(&mut self) {
        let mut ptr = self.ptr.as_ptr();
        // SAFETY: we own the packet; av_packet_free unrefs and frees it.
        unsafe { ff::av_packet_free(&mut ptr) }
    }
}
