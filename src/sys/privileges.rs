//! Dropping privileges: chroot and switching user (being written).
