//! Alert routing: route tree, grouping, inhibition, silences, receivers.
