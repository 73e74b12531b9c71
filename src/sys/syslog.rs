//! syslog for the daemon (being written).
