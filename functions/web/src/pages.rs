//! Server-rendered pages: tera templates compiled into the binary, so a
//! Lambda function needs no files. Rendering is strict: a template that
//! names an unknown variable fails (and a test renders every template).

use tera::{Context, Tera};

/// The page templates, by name, from `templates/pages/`.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../templates/pages/base.html"),
    ),
    (
        "home.html",
        include_str!("../../../templates/pages/home.html"),
    ),
];

/// The compiled page templates.
#[derive(Debug)]
pub struct Pages {
    tera: Tera,
}

impl Pages {
    /// Compiles the embedded templates.
    pub fn embedded() -> Result<Self, tera::Error> {
        let mut tera = Tera::default();
        tera.add_raw_templates(TEMPLATES.iter().copied())?;
        tera.autoescape_on(vec![".html"]);
        Ok(Self { tera })
    }

    /// Renders the page `name` with `context`.
    pub fn render(&self, name: &str, context: &Context) -> Result<String, tera::Error> {
        self.tera.render(name, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_compiles() {
        let pages = Pages::embedded().unwrap();
        let names: Vec<_> = pages.tera.get_template_names().collect();
        assert_eq!(names.len(), TEMPLATES.len());
    }

    #[test]
    fn a_missing_variable_is_an_error_not_an_empty_string() {
        let pages = Pages::embedded().unwrap();
        assert!(pages.render("home.html", &Context::new()).is_err());
    }
}
