//! Dataflows of smelter: the control plane (differential) and the data plane (timely).
