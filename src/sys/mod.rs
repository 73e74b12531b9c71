//! The only module allowed `unsafe`: system calls that std and mio do not wrap.
#![allow(unsafe_code)]

pub mod fifo;
pub mod signals;
pub mod zeroed;
