//! The Work in France back office. Data flows one way:
//! DS → `domain` → `store` → exports, admin and public service.

pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod export;
pub mod store;
pub mod synthetic;
pub mod telemetry;
