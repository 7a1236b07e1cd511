## manager pages
done-programme-saved = حُفظت النسخة الجديدة من البرنامج وأصبحت سارية.
done-model-activated = النموذج مُفعَّل؛ يجري الآن حساب المؤشر من جديد لكل السجل.
done-cycle-prepared = حُسبت الدورة. يجب أن يوافق عليها مسيّر آخر.
done-cycle-approved = تمت الموافقة على الدورة. يمكن الآن إعداد ملفات الأداء.
done-cycle-cancelled = أُلغيت الدورة. لن يُدفع منها شيء.
done-batches-opened = دفعات الأداء جاهزة.
manager-area-urban = حضري
manager-area-rural = قروي
manager-problem-same-manager = أنت من أعدّ هذه الدورة، فلا يمكنك الموافقة عليها. يجب أن يوافق عليها مسيّر آخر.
manager-problem-over-budget = الدورة تتجاوز سقف ميزانيتها. لم يُكتب أي شيء.
manager-problem-cycle-exists = لهذا البرنامج دورة لهذا الشهر من قبل.
manager-problem-not-computed = هذه الدورة لا تنتظر الموافقة.
manager-problem-not-approved = هذه الدورة لم تُوافَق بعد: يجب أن يوافق عليها مسيّر ثانٍ قبل خروج أي ملف.
manager-problem-approved = هذه الدورة مُوافَق عليها ولم يعد ممكناً إلغاؤها.
manager-problem-period = اكتب الشهر بالشكل YYYY-MM، مثلاً 2026-01.
manager-problem-cap = اكتب السقف بالدرهم وبالأرقام فقط (مثلاً 1500000 أو 1500000.50).
manager-problem-no-cash = هذا البرنامج لا يدفع مالاً (أعضاؤه مؤمَّنون)، فليست له دورة أداء.
manager-problem-reason = اذكر السبب: السبب إلزامي.
manager-problem-programme = لا يمكن حفظ البرنامج على حاله.
manager-problem-line = السطر { $line } من الملف غير صحيح (الحقل { $field }).
manager-rule-error = تعذّرت قراءة الشرط في السطر { $line }، العمود { $column }.
manager-rule-error-file = تعذّرت قراءة الشرط.
manager-unit-household = لكل أسرة
manager-unit-person = لكل فرد
manager-frequency-monthly = كل شهر
manager-frequency-quarterly = كل ثلاثة أشهر
manager-frequency-yearly = كل سنة
manager-frequency-once = مرة واحدة
manager-frequency-none = بدون مال (تأمين)
manager-cap-of = السقف { $cap }
manager-programmes-title = البرامج
manager-programmes-intro = البرامج السارية وشروطها ومن يستفيد منها.
manager-programmes-none = لم يُحدَّد أي برنامج بعد.
manager-col-programme = البرنامج
manager-col-condition = الشرط
manager-col-benefit = الإعانة
manager-col-enrolled = المسجَّلون
manager-col-eligible = مؤهَّلون غير مسجَّلين
manager-col-region = الجهة
manager-col-admitted = مؤهَّلون
manager-col-refused = غير مؤهَّلين
manager-col-undecided = تعذّر الحسم
manager-col-model = النموذج
manager-col-version = النسخة
manager-col-state = الحالة
manager-col-r2 = جودة المطابقة (R²)
manager-col-imported = سُجِّل
manager-col-action = إجراء
manager-col-now = المؤهَّلون الآن
manager-col-then = المؤهَّلون بهذا النموذج
manager-col-entering = الداخلون
manager-col-leaving = الخارجون
manager-col-area = الوسط
manager-col-cycle = الدورة
manager-col-period = الشهر
manager-col-entitlements = الاستحقاقات
manager-col-total = المجموع
manager-col-prepared = أعدّها
manager-col-approved = وافق عليها
manager-col-skipped = المستبعَدون
manager-col-batch = الدفعة
manager-col-means = وسيلة الأداء
manager-col-payments = الأداءات
manager-col-progress = التقدّم
manager-col-file = الملف
manager-version = النسخة { $version }
manager-try-title = جرّب شرطاً
manager-try-rule = الشرط
manager-try-rule-hint = مثلاً household.index <= 9.3 && members.size() >= 3
manager-try-check = تحقّق
manager-counts-title = الأسر التي يقبلها هذا الشرط
manager-counts-summary = { $n ->
    [zero] لن تكون أي أسرة مؤهَّلة
    [one] ستكون { $count } أسرة مؤهَّلة
    [two] ستكون أسرتان مؤهَّلتين
    [few] ستكون { $count } أسر مؤهَّلة
   *[other] ستكون { $count } أسرة مؤهَّلة
}
manager-counts-of = { $n ->
   *[other] من أصل { $count } في السجل.
}
manager-total = المجموع
manager-counts-read-at = قُرئ السجل في { $at }.
manager-counts-nothing-saved = لم يُحفظ أي شيء.
manager-conditions-title = الشروط
manager-conditions-intro = يجب أن تستوفي الأسرة كل الشروط. عدّلها، وتحقّق من عدد الأسر التي تقبلها، ثم احفظ نسخة جديدة.
manager-condition-message = إذا لم يتحقق، تقرأ الأسرة: { $message }
manager-reason = السبب
manager-reason-save-hint = لماذا تتغيّر الشروط (يُحفظ في سجل التدقيق)
manager-conditions-save = احفظ نسخة جديدة
manager-back-programmes = العودة إلى البرامج
manager-start = ساري منذ
manager-end = إلى غاية
manager-threshold = عتبة المؤشر
manager-models-title = نماذج المؤشر
manager-models-intro = نسخ نموذج المؤشر. نسخة واحدة مُفعَّلة؛ جرّب نسخة أخرى على السجل قبل تفعيلها.
manager-models-none = لم يُسجَّل أي نموذج بعد.
manager-model-active = مُفعَّل
manager-model-inactive = غير مُفعَّل
manager-not-recorded = غير مسجَّل
manager-model-dry-run = جرّبه
manager-model-title = النموذج { $id }، النسخة { $version }
manager-model-activated-at = مُفعَّل منذ
manager-dry-run-title = ما الذي سيتغيّر
manager-dry-run-intro = { $n ->
    [one] جُرِّب على أسرة واحدة من السجل: الأسر التي تدخل كل برنامج أو تخرج منه.
   *[other] جُرِّب على { $count } أسرة من السجل: الأسر التي تدخل كل برنامج أو تخرج منه.
}
manager-dry-run-none = لا يوجد أي برنامج، فلن يتغيّر شيء.
manager-dry-run-totals = حسب البرنامج
manager-dry-run-detail = حسب الجهة والوسط
manager-model-activate = فعّل هذا النموذج
manager-back-models = العودة إلى النماذج
manager-activate-title = تفعيل نموذج
manager-activate-question = هل تجعل النموذج { $id }، النسخة { $version }، هو الذي يُحسب به مؤشر كل أسرة؟
manager-activate-explain = سيُعاد حساب مؤشر كل أسرة والتحقق من كل برنامج. قد تدخل أسر إلى برامج أو تخرج منها.
manager-reason-required = إلزامي
manager-activate-confirm = نعم، فعّل
manager-cancel-back = لا، عُد
manager-cycles-title = دورات الأداء
manager-cycles-intro = كل دورة تؤدي برنامجاً لشهر واحد. يُعدّها مسيّر ويوافق عليها مسيّر آخر.
manager-cycles-none = لا توجد أي دورة بعد.
manager-cycle-number = رقم { $id }
manager-not-yet = ليس بعد
manager-prepare-title = إعداد دورة
manager-prepare-intro = اطّلع أولاً على ما ستؤديه الدورة. لا يُكتب شيء قبل أن تُعدّها.
manager-period-hint = السنة والشهر
manager-cap = سقف الميزانية
manager-cap-hint = بالدرهم؛ اتركه فارغاً لاعتماد سقف البرنامج
manager-preview = اطّلع على ما ستؤديه
manager-preview-title = { $programme }، { $period }: ما ستؤديه الدورة
manager-preview-over = الدورة تتجاوز سقفها بمبلغ { $over }. خفّض المبالغ أو ارفع السقف.
manager-prepare = أعدّ الدورة
manager-cycle-computing = قيد الحساب
manager-cycle-computed = في انتظار الموافقة
manager-cycle-approved = مُوافَق عليها
manager-cycle-cancelled = ملغاة
manager-skip-not-scored = مستبعَدون: أسرة بلا مؤشر بعد
manager-skip-not-current = مستبعَدون: المؤشر أقدم من آخر تعديل للأسرة
manager-skip-no-amount = مستبعَدون: لا شيء للأداء
manager-skip-not-eligible = مستبعَدون: لم يعودوا مؤهَّلين
manager-skip-condition = مستبعَدون: { $reason }
manager-cycle-title = الدورة رقم { $id }
manager-rules-on = قواعد ومبالغ يوم { $date }
manager-no-cap = بلا سقف
manager-approve-title = الموافقة
manager-approve-own = أنت من أعدّ هذه الدورة: يجب أن يوافق عليها مسيّر آخر.
manager-approve = وافق على الدورة
manager-cancel-title = الإلغاء
manager-cancel = ألغِ الدورة
manager-open-batches = أعدّ دفعات الأداء
manager-open-batches-hint = دفعة لكل وسيلة أداء
manager-batches-title = دفعات الأداء
manager-batches-none = لا توجد أي دفعة بعد.
manager-progress-paid = { $n ->
   *[other] { $count } مؤدّاة
}
manager-progress-failed = { $n ->
   *[other] { $count } متعثّرة
}
manager-progress-sent = { $n ->
   *[other] { $count } في انتظار الجواب
}
manager-progress-uncounted = الأداءات كثيرة جداً لعدّها هنا
manager-file-format = صيغة الملف
manager-format-pain001 = ISO 20022 (pain.001)
manager-format-csv = CSV
manager-download-again = حمّل الملف من جديد
manager-export = أعدّ الملف
manager-reconcile-title = جواب مقدّم الخدمة
manager-reconcile-intro = أرسل الملف الذي أعاده البنك أو مقدّم الخدمة (camt.054 أو CSV). يُتحقَّق من كل سطر قبل أي كتابة.
manager-reconcile-nothing = لم يتغيّر أي شيء.
manager-reconcile-already = سبقت قراءة الملف { $file }. لم يُعَد أي شيء.
manager-reconcile-done = { $n ->
    [one] قُرئ الملف { $file }: سطر واحد.
   *[other] قُرئ الملف { $file }: { $count } سطراً.
}
manager-outcome-paid = مؤدّاة
manager-outcome-failed = متعثّرة
manager-outcome-reversed = مُرجَعة
manager-outcome-unchanged = معروفة من قبل
manager-reconcile-file = ملف الجواب
manager-reconcile-file-hint = camt.054 (XML) أو CSV
manager-reconcile = اقرأ الجواب
manager-reconcile-empty = اختر ملفاً أولاً: وصل النموذج بلا ملف.
manager-back-cycles = العودة إلى الدورات
manager-means-bank = تحويل بنكي
manager-means-wallet = محفظة إلكترونية
manager-means-cash = نقداً في وكالة
manager-batch-open = جاهزة
manager-batch-exported = أُعدّ الملف
