"""artifactscope: find graphics corruptions (screen artifacts) in video-game frames."""

__version__ = "0.1.0"
