## الطلبات والشكايات: لائحة المواطن، الاستمارات، صفحة الطلب، لائحة الانتظار، التتبع العمومي وتقرير
## الآجال.

nav-my-requests = طلباتي
nav-requests = الطلبات
nav-delays = الآجال

done-request-moved = تم. تقدم الطلب إلى المرحلة الموالية.
done-request-reopened = أعيد فتح شكايتك. ستدرس من جديد.
done-request-rated = شكرا على رأيك.

requests-mine-title = طلباتي وشكاياتي
requests-mine-intro = تجد هنا كل طلبات أسرتك وأين وصلت.
requests-household-title = طلبات الأسرة { $id }
requests-household-intro = طلبات هذه الأسرة. يمكنك إيداع طلب جديد نيابة عن المواطن، بموافقته.
requests-offers-title = تقديم طلب
requests-offer-programme_application = طلب الاستفادة من برنامج
requests-offer-disability_card = طلب بطاقة الشخص في وضعية إعاقة
requests-offer-registration_attestation = طلب شهادة التسجيل
requests-offer-household_change = التصريح بتغيير في الأسرة
requests-offer-complaint = تقديم شكاية أو اقتراح
requests-list-title = طلباتك
requests-none = لا يوجد أي طلب حاليا.
requests-follow-link = تتبع طلب برقمه المرجعي ورمزه
requests-overdue = متأخر
requests-due = يعالج قبل { $date }
requests-submitted-on = أرسل في { $date }
requests-steps-left = { $n ->
    [one] بقيت مرحلة واحدة تقريبا
    [two] بقيت مرحلتان تقريبا
    [few] بقيت { $count } مراحل تقريبا
   *[other] بقيت { $count } مرحلة تقريبا
}
requests-state-open = في طور المعالجة

requests-outcome-approved = مقبول
requests-outcome-issued = تم الإصدار
requests-outcome-resolved = تم الرد
requests-outcome-rejected = مرفوض
requests-outcome-withdrawn = تم السحب
requests-outcome-closed = تم الحفظ

requests-grievance-complaint = شكاية
requests-grievance-suggestion = اقتراح
requests-grievance-observation = ملاحظة
requests-grievance-what = هل هي شكاية أم اقتراح أم ملاحظة؟
requests-category = ما موضوعها؟
requests-category-choose = اختر موضوعا
requests-which-programme = ما البرنامج الذي تطلب الاستفادة منه؟
requests-assisted-title = { $service }، للأسرة { $id }
requests-details-legend = طلبك
requests-details = ما تطلبه، في كلمات قليلة
requests-details-hint = اكتبه كما تقوله. لا تكتب كلمة سر ولا رقم بطاقة بنكية.
requests-documents = الوثائق
requests-documents-asked = الوثائق المطلوبة:
requests-documents-none-asked = لا تطلب أي وثيقة. يمكنك إرفاق وثيقة إن كانت مفيدة.
requests-documents-hint = { $n ->
    [one] ملف واحد على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز 900 كيلوبايت.
    [two] ملفان على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز كل منهما 900 كيلوبايت.
    [few] { $count } ملفات على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز كل منها 900 كيلوبايت.
   *[other] { $count } ملفا على الأكثر، PDF أو JPEG أو PNG، لا يتجاوز كل منها 900 كيلوبايت.
}
requests-channel = كيف قدم المواطن طلبه
requests-channel-centre = في المركز
requests-channel-phone = بالهاتف
requests-channel-web = عبر الإنترنت
requests-send = إرسال الطلب

requests-error-too-many-documents = { $n ->
    [one] أرسل ملفا واحدا على الأكثر.
    [two] أرسل ملفين على الأكثر.
    [few] أرسل { $count } ملفات على الأكثر.
   *[other] أرسل { $count } ملفا على الأكثر.
}
requests-error-documents-required = أرفق الوثائق المطلوبة.
requests-error-documents-too_many = أرسل 3 ملفات على الأكثر.
requests-error-details-required = اكتب ما حدث في كلمات قليلة.
requests-error-details-too_long = هذا النص طويل جدا (4000 حرف على الأكثر).
requests-error-programme-unknown_programme = اختر البرنامج المطلوب.
requests-error-category-unknown_category = اختر موضوع الشكاية.
requests-error-grievance-unknown = اختر شكاية أو اقتراحا أو ملاحظة.
requests-error-consent-required = موافقة المواطن ضرورية لإيداع الطلب نيابة عنه.
requests-error-reason-required = اكتب السبب: سيقرؤه المواطن.
requests-error-rating-range = اختر نقطة من 1 إلى 5.
requests-error-comment-too_long = هذا التعليق طويل جدا (1000 حرف على الأكثر).

requests-submitted-title = تم إرسال طلبك
requests-submitted-text = توصلنا بطلبك ({ $service }). احتفظ بالرقم المرجعي والرمز أسفله: يمكنانك من تتبع طلبك، حتى دون تسجيل الدخول.
requests-reference = الرقم المرجعي
requests-secret = رمز التتبع
requests-secret-once = لا يظهر الرمز إلا مرة واحدة. اكتبه أو التقط صورة لهذه الشاشة.
requests-see-it = عرض طلبي

requests-detail-title = { $service } — { $reference }
requests-back = العودة إلى اللائحة
requests-where-it-stands = أين وصل الطلب
requests-service = الخدمة
requests-about = الموضوع
requests-step = المرحلة
requests-state = الحالة
requests-deadline = الأجل
requests-progress = التقدم
requests-submitted = أرسل في
requests-closed = أغلق في
requests-updated = آخر تغيير
requests-centre = يعالجه
requests-escalated = متأخر، أحيل على
requests-see-household = عرض الأسرة
requests-answer = الجواب
requests-actions-title = ما يمكنك فعله الآن
requests-reason-required = السبب (إلزامي، سيقرؤه المواطن)
requests-reason-optional = تعليق (اختياري)
requests-reopen-title = الجواب لا يحل المشكلة؟
requests-reopen-reason = قل لماذا
requests-reopen = إعادة فتح الشكاية
requests-rate-title = أعط رأيك
requests-rate-legend = ما مدى رضاك عن هذه الخدمة؟
requests-rate-mark = { $n ->
    [one] { $count } من 5 — غير راض إطلاقا
    [2] { $count } من 5 — غير راض
    [3] { $count } من 5 — متوسط
    [4] { $count } من 5 — راض
   *[other] { $count } من 5 — راض جدا
}
requests-rate-comment = تعليق (اختياري)
requests-rate-send = إرسال رأيي
requests-rated = أعطيت هذه الخدمة { $count } من 5. شكرا.
requests-documents-given = الوثائق المرفقة
requests-kilobytes = { $count } كيلوبايت
requests-timeline = ما حدث
requests-filed-assisted = أودع في المركز نيابة عن المواطن، بموافقته.
requests-here-now = الطلب هنا الآن
requests-stayed = بقي { $time }
requests-waiting-since = في الانتظار منذ { $time }
requests-conflict-title = شخص آخر حرك هذا الطلب
requests-conflict-text = تغير الطلب وأنت تقرؤه. هذا هو وضعه الآن؛ تحقق منه قبل أن تتصرف.

requests-days = { $n ->
    [one] يوم واحد
    [two] يومان
    [few] { $count } أيام
   *[other] { $count } يوما
}
requests-hours = { $n ->
    [one] ساعة واحدة
    [two] ساعتان
    [few] { $count } ساعات
   *[other] { $count } ساعة
}
requests-minutes = { $n ->
    [one] دقيقة واحدة
    [two] دقيقتان
    [few] { $count } دقائق
   *[other] { $count } دقيقة
}

requests-action-submit = إرسال
requests-action-withdraw = سحب الطلب
requests-action-documents_complete = الوثائق كاملة
requests-action-ask_for_documents = طلب وثائق
requests-action-opinion_given = أبدت اللجنة رأيها
requests-action-grant = منح البطاقة
requests-action-refuse = رفض
requests-action-reject = رفض
requests-action-approve = قبول
requests-action-confirm = تأكيد
requests-action-visit_needed = يلزم القيام بزيارة منزلية
requests-action-no_visit_needed = لا تلزم زيارة
requests-action-visit_confirms = الزيارة تؤكد التغيير
requests-action-visit_contradicts = الزيارة تناقض التغيير
requests-action-apply_update = تطبيق التغيير على الأسرة
requests-action-route_to_unit = إحالة على المصلحة المختصة
requests-action-close = حفظ دون متابعة
requests-action-assign = التكفل بالشكاية
requests-action-send_back = إرجاع إلى الاستقبال
requests-action-propose_answer = اقتراح جواب
requests-action-send_answer = إرسال الجواب
requests-action-rework = إعادة صياغة الجواب
requests-action-reopen = أعاد المواطن فتحها

requests-unit-registry_unit = مصلحة السجل
requests-unit-targeting_unit = مصلحة الاستهداف
requests-unit-payments_unit = مصلحة الأداءات
requests-unit-health_insurance_unit = مصلحة التأمين الإجباري عن المرض
requests-unit-disability_unit = مصلحة الإعاقة
requests-unit-citizen_relations = العلاقات مع المواطنين
requests-unit-inspection_unit = المفتشية

doc-national-id = البطاقة الوطنية للتعريف
doc-medical-certificate = شهادة طبية
doc-photo = صورة حديثة
doc-medical-report = تقرير اللجنة الطبية
doc-household-composition = ما يثبت أفراد الأسرة
doc-change-proof = ما يثبت التغيير
doc-visit-report = تقرير الزيارة المنزلية

requests-queue-title = الطلبات المطلوب معالجتها
requests-queue-intro = الطلبات التي تنتظرك في مجالك الترابي، الأكثر استعجالا أولا.
requests-queue-overdue = { $n ->
    [one] طلب واحد متأخر.
    [two] طلبان متأخران.
    [few] { $count } طلبات متأخرة.
   *[other] { $count } طلبا متأخرا.
}
requests-all-services = كل الخدمات
requests-filter = عرض

requests-follow-title = تتبع طلب
requests-follow-intro = اكتب الرقم المرجعي والرمز اللذين توصلت بهما عند إرسال طلبك. لا حاجة إلى حساب.
requests-reference-hint = مثلا SR-2026-0000123-4
requests-secret-hint = الحروف الستة المسلمة مع الرقم المرجعي
requests-follow-send = معرفة أين وصل
requests-follow-not-found = لا يوجد طلب بهذا الرقم المرجعي وهذا الرمز. تحقق منهما وأعد المحاولة.

requests-delays-title = الآجال ونقط التعثر
requests-delays-intro = كم تستغرق كل مرحلة، وأين تنتظر الطلبات، وما رأي المواطنين في الخدمة.
requests-territory = المجال الترابي
requests-territory-hint = رمز جهة أو إقليم أو جماعة؛ فارغ لكل مجالاتك
requests-waiting-most = { $n ->
   *[other] أغلب الطلبات تنتظر في: { $step } ({ $count })
}
requests-delays-none-waiting = لا ينتظر أي طلب حاليا.
requests-delays-steps = المدة حسب المرحلة
requests-delays-centres = المدة حسب المركز
requests-delays-territories = المدة حسب المجال الترابي
requests-delays-empty = لا شيء للعرض بعد.
requests-ratings-title = رضا المواطنين
requests-ratings-none = لم يبد أي رأي بعد.
requests-out-of-five = { $mark } من 5
requests-col-service = الخدمة
requests-col-step = المرحلة
requests-col-centre = المركز
requests-col-territory = المجال الترابي
requests-col-finished = منتهية
requests-col-median = المدة المعتادة (الوسيط)
requests-col-p90 = 9 من 10 في أقل من
requests-col-open = في الانتظار
requests-col-waiting = الانتظار المعتاد
requests-col-breaches = متأخرة
requests-col-median-seconds = الوسيط (بالثواني)
requests-col-p90-seconds = المئين 90 (بالثواني)
requests-col-waiting-seconds = وسيط الانتظار (بالثواني)
requests-col-average = متوسط النقطة
requests-col-ratings = الآراء
