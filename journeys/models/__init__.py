from .journey import JourneySettings, PoolMember, Stage, StageChange, StageMilestone
from .playbooks import Playbook, PlaybookFiring, PlaybookStep, Priority, Task, TaskComment
from .success import CheckIn, DigestRun, Outcome, SuccessPlan, SurveyResponse

__all__ = [
    "CheckIn",
    "DigestRun",
    "JourneySettings",
    "Outcome",
    "Playbook",
    "PlaybookFiring",
    "PlaybookStep",
    "PoolMember",
    "Priority",
    "Stage",
    "StageChange",
    "StageMilestone",
    "SuccessPlan",
    "SurveyResponse",
    "Task",
    "TaskComment",
]
