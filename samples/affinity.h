#pragma once
// Exported by libsctrace_affinity.so (samples/affinity_lib.c).
int sample_probe_affinity(void);
int sample_probe_extra(void);
