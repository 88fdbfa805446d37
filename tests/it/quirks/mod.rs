//! Real registries' quirks, reproduced with the real registry behind the fault proxy: manifest
//! HEAD refused, Docker Hub's pull limit, challenges naming stray scopes, foreign layers, and
//! pull-through mirrors (real distribution proxies in front of real registries).

mod foreign;
mod head;
mod mirrors;
mod rate_limit;
mod scopes;
