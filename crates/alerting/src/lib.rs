//! Alerting: rule evaluation, SLO compiler, alert routing and receivers.
