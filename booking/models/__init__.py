"""The booking domain's models (client schemas, app label `booking`), one module per aggregate."""

from .api_keys import ApiKey  # noqa: F401
from .bookings import Booking, Channel, Hold  # noqa: F401
from .calls import CallLog  # noqa: F401
from .cases import SpecialCircumstancesCase  # noqa: F401
from .catalogue import (  # noqa: F401
    CourseType,
    DeliveryMode,
    Language,
    Trainer,
    TrainerAbsence,
    Venue,
    every_day,
)
from .closures import Closure  # noqa: F401
from .correspondence import CorrespondenceTemplate  # noqa: F401
from .events import OfferEvent  # noqa: F401
from .measures import JourneyStartDay, SatisfactionResponse  # noqa: F401
from .offers import Offer  # noqa: F401
from .payments import Payment, Refund  # noqa: F401
from .privacy import ErasureRecord, OffenderRead, RetentionSchedule  # noqa: F401
from .sessions import CourseSession  # noqa: F401
from .tallies import (  # noqa: F401
    BookingTally,
    FunnelEntry,
    FunnelTally,
    RemittanceTally,
    SessionFill,
    TallyChange,
)
