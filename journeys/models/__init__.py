from .journey import JourneySettings, PoolMember, Stage, StageChange, StageMilestone
from .playbooks import Playbook, PlaybookCondition, PlaybookFiring, PlaybookStep, Priority, Task, TaskComment, Trigger
from .success import CheckIn, DigestRun, Outcome, SuccessPlan, SurveyResponse

__all__ = [
    "CheckIn",
    "DigestRun",
    "JourneySettings",
    "Outcome",
    "Playbook",
    "PlaybookCondition",
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
    "Trigger",
]
