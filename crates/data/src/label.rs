//! Structured labels of procedural clips: shape, colour and motion, and the caption built
//! from them.
//!
//! Each enum has a fixed `ALL` list whose order is the class index, so a classifier (or a
//! per-class validation metric) trained today still reads the same classes tomorrow. Append new
//! variants at the end; never reorder.

use serde::{Deserialize, Serialize};

/// The object drawn in a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// Axis-aligned square (before any rotation).
    Square,
    /// Disc.
    Circle,
    /// Equilateral triangle pointing up (before any rotation).
    Triangle,
    /// Plus sign.
    Cross,
}

impl Shape {
    /// Every shape, in class-index order.
    pub const ALL: [Shape; 4] = [Shape::Square, Shape::Circle, Shape::Triangle, Shape::Cross];

    /// The word used in captions.
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Square => "square",
            Shape::Circle => "circle",
            Shape::Triangle => "triangle",
            Shape::Cross => "cross",
        }
    }

    /// Stable class index: the position in [`Shape::ALL`].
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|&s| s == self)
            .expect("ALL lists every shape")
    }

    /// A rotated circle looks the same, so a rotation caption would be a lie.
    pub fn shows_rotation(self) -> bool {
        self != Shape::Circle
    }
}

/// The object's colour. Chosen to stay clearly distinct from each other and from the dark
/// backgrounds, even at 16x16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    /// Red.
    Red,
    /// Green.
    Green,
    /// Blue (a light blue, so it stands out on dark blue backgrounds).
    Blue,
    /// Yellow.
    Yellow,
    /// White.
    White,
    /// Magenta.
    Magenta,
}

impl Colour {
    /// Every colour, in class-index order.
    pub const ALL: [Colour; 6] = [
        Colour::Red,
        Colour::Green,
        Colour::Blue,
        Colour::Yellow,
        Colour::White,
        Colour::Magenta,
    ];

    /// The word used in captions.
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Yellow => "yellow",
            Colour::White => "white",
            Colour::Magenta => "magenta",
        }
    }

    /// Stable class index: the position in [`Colour::ALL`].
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|&c| c == self)
            .expect("ALL lists every colour")
    }

    /// Linear RGB in [0, 1]. Every colour has a channel of at least 0.9, while backgrounds stay
    /// below 0.35: a pixel brighter than 0.5 in some channel is object, never background.
    pub fn rgb(self) -> [f32; 3] {
        match self {
            Colour::Red => [0.95, 0.1, 0.1],
            Colour::Green => [0.1, 0.9, 0.15],
            Colour::Blue => [0.25, 0.45, 1.0],
            Colour::Yellow => [0.95, 0.9, 0.1],
            Colour::White => [0.95, 0.95, 0.95],
            Colour::Magenta => [0.95, 0.15, 0.9],
        }
    }
}

/// Direction of a translation, in screen terms (up is towards row 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Towards column 0.
    Left,
    /// Towards the last column.
    Right,
    /// Towards row 0.
    Up,
    /// Towards the last row.
    Down,
}

impl Direction {
    /// Every direction.
    pub const ALL: [Direction; 4] = [
        Direction::Left,
        Direction::Right,
        Direction::Up,
        Direction::Down,
    ];

    /// The word used in captions.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Left => "left",
            Direction::Right => "right",
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }

    /// Unit step in (x, y) pixel coordinates, y growing downwards.
    pub fn unit(self) -> (f32, f32) {
        match self {
            Direction::Left => (-1.0, 0.0),
            Direction::Right => (1.0, 0.0),
            Direction::Up => (0.0, -1.0),
            Direction::Down => (0.0, 1.0),
        }
    }
}

/// What happens to the object over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    /// Translation; `fast` is twice the speed of slow.
    Move {
        /// Where it goes.
        direction: Direction,
        /// About 2 px per frame at 32x32 instead of 1.
        fast: bool,
    },
    /// Rotation about the object's centre, clockwise as seen on screen.
    RotateClockwise,
    /// Rotation about the object's centre, counterclockwise as seen on screen.
    RotateCounterclockwise,
    /// Size increases every frame.
    Grow,
    /// Size decreases every frame.
    Shrink,
    /// The object disappears and reappears.
    Blink,
    /// The colour fades into another colour.
    TurnInto(Colour),
}

impl Motion {
    /// Every motion, in class-index order.
    pub const ALL: [Motion; 19] = [
        Motion::Move {
            direction: Direction::Left,
            fast: false,
        },
        Motion::Move {
            direction: Direction::Left,
            fast: true,
        },
        Motion::Move {
            direction: Direction::Right,
            fast: false,
        },
        Motion::Move {
            direction: Direction::Right,
            fast: true,
        },
        Motion::Move {
            direction: Direction::Up,
            fast: false,
        },
        Motion::Move {
            direction: Direction::Up,
            fast: true,
        },
        Motion::Move {
            direction: Direction::Down,
            fast: false,
        },
        Motion::Move {
            direction: Direction::Down,
            fast: true,
        },
        Motion::RotateClockwise,
        Motion::RotateCounterclockwise,
        Motion::Grow,
        Motion::Shrink,
        Motion::Blink,
        Motion::TurnInto(Colour::Red),
        Motion::TurnInto(Colour::Green),
        Motion::TurnInto(Colour::Blue),
        Motion::TurnInto(Colour::Yellow),
        Motion::TurnInto(Colour::White),
        Motion::TurnInto(Colour::Magenta),
    ];

    /// The caption words after the shape, e.g. "moving left fast" or "turning blue".
    pub fn as_str(self) -> &'static str {
        use Direction::*;
        match self {
            Motion::Move {
                direction: Left,
                fast: false,
            } => "moving left slow",
            Motion::Move {
                direction: Left,
                fast: true,
            } => "moving left fast",
            Motion::Move {
                direction: Right,
                fast: false,
            } => "moving right slow",
            Motion::Move {
                direction: Right,
                fast: true,
            } => "moving right fast",
            Motion::Move {
                direction: Up,
                fast: false,
            } => "moving up slow",
            Motion::Move {
                direction: Up,
                fast: true,
            } => "moving up fast",
            Motion::Move {
                direction: Down,
                fast: false,
            } => "moving down slow",
            Motion::Move {
                direction: Down,
                fast: true,
            } => "moving down fast",
            Motion::RotateClockwise => "rotating clockwise",
            Motion::RotateCounterclockwise => "rotating counterclockwise",
            Motion::Grow => "growing",
            Motion::Shrink => "shrinking",
            Motion::Blink => "blinking",
            Motion::TurnInto(Colour::Red) => "turning red",
            Motion::TurnInto(Colour::Green) => "turning green",
            Motion::TurnInto(Colour::Blue) => "turning blue",
            Motion::TurnInto(Colour::Yellow) => "turning yellow",
            Motion::TurnInto(Colour::White) => "turning white",
            Motion::TurnInto(Colour::Magenta) => "turning magenta",
        }
    }

    /// Stable class index: the position in [`Motion::ALL`].
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|&m| m == self)
            .expect("ALL lists every motion")
    }
}

/// The generating parameters of a procedural clip, kept next to its caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClipLabel {
    /// The object.
    pub shape: Shape,
    /// Its colour (the starting colour for [`Motion::TurnInto`]).
    pub colour: Colour,
    /// What it does.
    pub motion: Motion,
}

impl ClipLabel {
    /// The caption, e.g. "a red square moving left fast" or "a red circle turning blue".
    pub fn caption(&self) -> String {
        format!(
            "a {} {} {}",
            self.colour.as_str(),
            self.shape.as_str(),
            self.motion.as_str()
        )
    }

    /// Whether the generator can draw this label truthfully: a circle cannot visibly rotate and
    /// an object cannot turn into its own colour.
    pub fn is_drawable(&self) -> bool {
        self.invalid_reason().is_none()
    }

    /// Why [`ClipLabel::is_drawable`] is false, if it is.
    pub(crate) fn invalid_reason(&self) -> Option<&'static str> {
        match self.motion {
            Motion::RotateClockwise | Motion::RotateCounterclockwise
                if !self.shape.shows_rotation() =>
            {
                Some("a rotating circle looks static; pick another shape or motion")
            }
            Motion::TurnInto(to) if to == self.colour => {
                Some("the object already has that colour; pick a different target colour")
            }
            _ => None,
        }
    }

    /// Every drawable label, in (shape, colour, motion) class-index order. Sampling uniformly
    /// from this list keeps every caption equally likely.
    pub fn all_drawable() -> Vec<ClipLabel> {
        let mut out = Vec::new();
        for shape in Shape::ALL {
            for colour in Colour::ALL {
                for motion in Motion::ALL {
                    let label = ClipLabel {
                        shape,
                        colour,
                        motion,
                    };
                    if label.is_drawable() {
                        out.push(label);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_indices_follow_all_lists() {
        for (i, s) in Shape::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
        for (i, c) in Colour::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        for (i, m) in Motion::ALL.iter().enumerate() {
            assert_eq!(m.index(), i);
        }
    }

    #[test]
    fn captions_read_naturally() {
        let l = ClipLabel {
            shape: Shape::Circle,
            colour: Colour::Red,
            motion: Motion::TurnInto(Colour::Blue),
        };
        assert_eq!(l.caption(), "a red circle turning blue");
        let l = ClipLabel {
            shape: Shape::Square,
            colour: Colour::Red,
            motion: Motion::Move {
                direction: Direction::Left,
                fast: true,
            },
        };
        assert_eq!(l.caption(), "a red square moving left fast");
    }

    #[test]
    fn undrawable_labels_are_excluded() {
        let all = ClipLabel::all_drawable();
        assert!(all.iter().all(|l| l.is_drawable()));
        assert!(!all
            .iter()
            .any(|l| l.shape == Shape::Circle && l.motion == Motion::RotateClockwise));
        // 4 shapes x 6 colours x 19 motions, minus circle rotations (2 x 6), minus self-turns (6 x 4).
        assert_eq!(all.len(), 4 * 6 * 19 - 12 - 24);
    }
}
