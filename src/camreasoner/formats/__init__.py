"""File formats: question, label, prediction and score files (CamReasoner's and CameraBench's official ones)."""
