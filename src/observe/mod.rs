//! The portal as read: `state` reads it through the API trait into `Observed`; `identity`
//! decides which live room each manifest room is; `room_settings` holds a room's settings as
//! the portal shows them. Reading never changes the portal (docs/architecture.md, "The
//! pipeline").

pub mod access;
pub mod groups;
pub mod identity;
pub mod room_settings;
pub mod scopes;
pub mod state;
