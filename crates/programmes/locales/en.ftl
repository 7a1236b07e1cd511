# Messages a citizen or an agent reads about a programme decision, in plain words.

## When a household is eligible
programme-eligible = You can receive it.

## Why a household is not eligible
index-above-threshold = Your household's index is above the programme's threshold.
household-not-scored = Your household has not been given an index yet, so eligibility cannot be decided.
programme-not-active = The programme is not open on this date.
rule-evaluation-error = The programme's rules could not be checked for your household; an agent will look at it.
asd-no-child-no-elderly = The household has no child under 21, and not all its members are 60 or older.
no-school-age-child = No child of school age in the household.
school-child-not-enrolled = A child of school age in the household is not at school.
no-disabled-member = No member of the household has a recorded disability.

## How an amount was made
benefit-line-floor = Top-up to the minimum amount per household
asd-line-child = Family allowance for a child
asd-line-elderly = Allowance for a household of older people
school-line-child = School-attendance support for a child at school
disability-line-member = Allowance for a member with a disability

## Flags for the agent
flag-drop-out = A child of school age has left school.

## Enrolment
enrolment-eligible = The household is eligible.
enrolment-eligible-again = The household is eligible again.
enrolment-enrolled = The household is enrolled in the programme.
enrolment-suspended = The enrolment is suspended.
enrolment-resumed = The enrolment is active again.
enrolment-no-longer-eligible = The household is no longer eligible.

## Counts
children-count = { $count ->
    [one] one child
   *[other] { $count } children
}
