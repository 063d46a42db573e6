//! Renderers: plans and reports as text, JSON and Markdown. Renderers only format; they never
//! decide anything.

pub mod plan;
pub mod report;
