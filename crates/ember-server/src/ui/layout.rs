//! The page shell: head, navigation, theme toggle.

use maud::{html, Markup, DOCTYPE};

use super::assets::{script_url, stylesheet_url};

/// The navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Projects,
    Datasets,
    Prompts,
    Settings,
    None,
}

pub fn shell(title: &str, section: Section, body: Markup) -> Markup {
    let nav = [
        ("/projects", "Projects", Section::Projects),
        ("/datasets", "Datasets", Section::Datasets),
        ("/prompts", "Prompts", Section::Prompts),
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
                    span.spacer {}
                    span.muted { kbd { "/" } " filter " kbd { "j" } kbd { "k" } " move " kbd { "↵" } " open" }
                    button.small type="button" data-theme-toggle title="Switch between light and dark" { "◐ theme" }
                }
                main { (body) }
            }
        }
    }
}
