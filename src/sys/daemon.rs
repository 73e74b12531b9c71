//! Daemon process: fork, pid file with a lock (being written).
