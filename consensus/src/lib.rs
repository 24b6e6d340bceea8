//! weft's cluster: one project's chain replicated by Raft (openraft).
