-- 0011: rating months are local months.
--
-- rating_accepted.period (the month a rating's per-card cap counts in) and
-- the month of rating_monthly were taken in UTC, while settlement and the
-- gateway count in local time (ONECARD_TZ_OFFSET_MIN, +08:00): a swipe and
-- its rating between 00:00 and 08:00 local on the 1st fell in different
-- months. From this version the rating service computes them with the one
-- local calendar (libs/common/calendar.c). Rows written before keep the
-- month they were counted in: a cap already applied is not re-decided.
COMMENT ON COLUMN rating_accepted.period IS
    'YYYY-MM of the rating in the local calendar (ONECARD_TZ_OFFSET_MIN); UTC before 0011';
