//! The local fake NXCC server (being built).
