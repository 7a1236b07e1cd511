# رسائل يقرؤها المواطن أو العون عن قرار البرنامج، بكلمات بسيطة.

## عندما تستوفي الأسرة الشروط
programme-eligible = يمكنكم الاستفادة منه.

## لماذا لا تستوفي الأسرة الشروط
index-above-threshold = مؤشر أسرتكم أعلى من عتبة البرنامج.
household-not-scored = لم يُحتسب بعدُ مؤشر لأسرتكم، لذلك لا يمكن البت في الاستحقاق.
programme-not-active = البرنامج غير مفتوح في هذا التاريخ.
rule-evaluation-error = تعذّر التحقق من شروط البرنامج بالنسبة لأسرتكم؛ سيتولى عون دراسة الملف.
asd-no-child-no-elderly = لا يوجد في الأسرة طفل دون 21 سنة، وليس كل أفرادها في سن 60 سنة فما فوق.
no-school-age-child = لا يوجد في الأسرة طفل في سن التمدرس.
school-child-not-enrolled = طفل في سن التمدرس من الأسرة غير متمدرس.
no-disabled-member = لا يوجد في الأسرة فرد في وضعية إعاقة مسجلة.

## كيف احتُسب المبلغ
benefit-line-floor = تكملة إلى الحد الأدنى للمبلغ لكل أسرة
asd-line-child = إعانة عائلية عن طفل
asd-line-elderly = إعانة جزافية لأسرة من المسنين
school-line-child = دعم التمدرس عن طفل متمدرس
disability-line-member = إعانة عن فرد في وضعية إعاقة

## تنبيهات للعون
flag-drop-out = طفل في سن التمدرس انقطع عن الدراسة.

## التسجيل
enrolment-eligible = الأسرة مستوفية للشروط.
enrolment-eligible-again = الأسرة مستوفية للشروط من جديد.
enrolment-enrolled = الأسرة مسجلة في البرنامج.
enrolment-suspended = التسجيل موقوف.
enrolment-resumed = التسجيل نشط من جديد.
enrolment-no-longer-eligible = الأسرة لم تعد مستوفية للشروط.

## الأعداد
children-count = { $count ->
    [zero] لا أطفال
    [one] طفل واحد
    [two] طفلان
    [few] { $count } أطفال
    [many] { $count } طفلًا
   *[other] { $count } طفل
}
