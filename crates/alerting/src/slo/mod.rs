//! The SLO compiler: Sloth specs (and OpenSLO) to Prometheus rules.
