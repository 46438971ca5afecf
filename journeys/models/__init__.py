from .journey import JourneySettings, PoolMember, Stage, StageChange, StageMilestone
from .playbooks import Playbook, PlaybookCondition, PlaybookFiring, PlaybookStep, Priority, Task, TaskComment, Trigger
from .success import CheckIn, DigestRun, Outcome, SuccessPlan, SurveyResponse
from .webhooks import Delivery, DeliveryAttempt, Endpoint, EventKind, WebhookEvent

__all__ = [
    "CheckIn",
    "Delivery",
    "DeliveryAttempt",
    "DigestRun",
    "Endpoint",
    "EventKind",
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
    "WebhookEvent",
]
