//! The page shell: head, navigation, theme toggle.

use ember_service::{Caller, Role};
use maud::{html, Markup, DOCTYPE};

use super::assets::{script_url, stylesheet_url};

/// The navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Projects,
    Datasets,
    Prompts,
    Playground,
    Models,
    Settings,
    Account,
    Users,
    None,
}

/// A page: `caller` decides the account links (nothing while authentication is off).
pub fn shell(title: &str, section: Section, caller: &Caller, body: Markup) -> Markup {
    let role = caller.user_and_role().map(|(_, role)| role);
    let nav = [
        ("/projects", "Projects", Section::Projects),
        ("/datasets", "Datasets", Section::Datasets),
        ("/prompts", "Prompts", Section::Prompts),
        ("/playground", "Playground", Section::Playground),
        ("/models", "Models", Section::Models),
        ("/settings", "Settings", Section::Settings),
    ];
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ember" }
                link rel="stylesheet" href=(stylesheet_url());
                script src=(script_url()) defer {}
            }
            body {
                header.top {
                    a.brand href="/projects" { "ember" }
                    nav {
                        @for (href, label, entry) in nav {
                            a.active[entry == section] href=(href) { (label) }
                        }
                    }
                    form.global-search method="get" action="/search" role="search" {
                        input #global-search type="search" name="q" placeholder="Search (Ctrl-K)" aria-label="search projects, datasets, prompts and ids";
                    }
                    span.spacer {}
                    span.muted { kbd { "/" } " filter " kbd { "j" } kbd { "k" } " move " kbd { "↵" } " open" }
                    button.small type="button" data-theme-toggle title="Switch between light and dark" { "◐ theme" }
                    @if let Some(role) = role {
                        nav.account {
                            @if matches!(role, Role::Admin | Role::System) { a.active[section == Section::Users] href="/users" { "Users" } }
                            a.active[section == Section::Account] href="/account" { "Account" }
                            a href="/auth/logout" #header-sign-out { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}
