//! Plain WIT exports, written as any wit-bindgen user would: PowerAutomation
//! serves them as MCP tools with schemas derived from the types.

wit_bindgen::generate!({ path: "wit", world: "shapes" });

use exports::example::shapes::geometry::{Color, Guest as Geometry, Point, Shape, Style};

struct Shapes;

impl Guest for Shapes {
    fn add(a: u8, b: u8) -> u16 {
        u16::from(a) + u16::from(b)
    }
}

impl Geometry for Shapes {
    fn area(shape: Shape) -> f64 {
        match shape {
            Shape::Circle(r) => std::f64::consts::PI * f64::from(r) * f64::from(r),
            Shape::Rect((w, h)) => f64::from(w) * f64::from(h),
            Shape::Dot => 0.0,
        }
    }

    fn describe(
        label: String,
        at: Point,
        color: Option<Color>,
        style: Style,
        tags: Vec<String>,
    ) -> Result<String, String> {
        if label.is_empty() {
            return Err("the label is empty".into());
        }
        let color = match color {
            Some(Color::Red) => "red",
            Some(Color::Green) => "green",
            Some(Color::Blue) => "blue",
            None => "uncoloured",
        };
        let bold = if (style & Style::BOLD) == Style::BOLD {
            " bold"
        } else {
            ""
        };
        Ok(format!(
            "{label} at ({}, {}), {color}{bold}, tags: {}",
            at.x,
            at.y,
            tags.join(",")
        ))
    }

    fn translate(points: Vec<Point>, dx: i32, dy: i32) -> Vec<Point> {
        points
            .into_iter()
            .map(|p| Point {
                x: p.x + dx,
                y: p.y + dy,
            })
            .collect()
    }
}

export!(Shapes);
