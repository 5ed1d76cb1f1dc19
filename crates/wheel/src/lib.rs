//! Wheel of Expertise: a game played between incidents. A spin draws a
//! question card about the live lab (who, what, where) from a seed; the
//! player answers (or names whom they would escalate to) and the answer is
//! checked against the lab's truth taken at the moment of the spin.
//!
//! - [`facts`]: a snapshot of the lab's truth, gathered over the control
//!   plane's own read APIs;
//! - [`template`]: the question templates, one file per category;
//! - [`answer`]: answer kinds (a name, a number with a tolerance, a set)
//!   and checking;
//! - [`card`]: a drawn card, and the draw itself (deterministic from the
//!   seed and the facts);
//! - [`persist`]: the `wheel_sessions` and `wheel_cards` tables;
//! - [`game`]: spin, answer, escalate, board, show; journals every step;
//! - [`api`]: `/api/wheel/*` and who may use what;
//! - [`record`]: the `command.run` middleware (the path a player took).

pub mod answer;
pub mod api;
pub mod card;
pub mod error;
pub mod facts;
pub mod game;
pub mod persist;
pub mod record;
pub mod template;

pub use answer::Answer;
pub use card::{Card, Category};
pub use error::WheelError;
pub use facts::Facts;
pub use game::Wheel;
