//! The DocSpace REST client (wire types, HTTP, retries, pacing).
