//! State file: opentracker statedump lines saved and loaded (being written).
