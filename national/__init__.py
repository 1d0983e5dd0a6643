"""The ministry's code location: quarter x province partitions over the provinces' data folders."""
